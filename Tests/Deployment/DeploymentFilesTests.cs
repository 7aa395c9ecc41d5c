using System.Reflection;
using System.Text.RegularExpressions;
using Realtime.Contracts.Hosting;
using Realtime.Gateway;
using Realtime.Gateway.Hosting;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Deployment;

/// <summary>
/// There is no container engine here, so the compose file, the Dockerfiles, the nginx config and the Kubernetes
/// manifests are checked against the code: projects, assembly names, settings, ports, probes, stickiness, drain time.
/// </summary>
public sealed partial class DeploymentFilesTests
{
    private static readonly string Root = Build.RepositoryRoot;
    private static readonly string Compose = Read("docker-compose.yml");
    private static readonly string Nginx = Read("deploy/nginx/nginx.conf");
    private static readonly string[] Manifests = Directory.GetFiles(Path.Combine(Root, "deploy", "k8s"), "*.yaml").Select(File.ReadAllText).ToArray();
    private static readonly string Kubernetes = string.Join("\n---\n", Manifests);

    public static TheoryData<string, string> Dockerfiles => new()
    {
        { "Silo/Dockerfile", "Silo/Silo.csproj" },
        { "Gateway.Host/Dockerfile", "Gateway.Host/Gateway.Host.csproj" },
    };

    [Fact]
    public void Compose_EveryBuiltService_UsesADockerfileThatExists()
    {
        var dockerfiles = DockerfileReference().Matches(Compose).Select(m => m.Groups[1].Value).Distinct().ToArray();

        Assert.Equal(["Gateway.Host/Dockerfile", "Silo/Dockerfile"], dockerfiles);
        Assert.All(dockerfiles, f => Assert.True(File.Exists(Path.Combine(Root, f)), $"{f} is missing"));
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Dockerfile_PublishesTheProjectItNamesAndRunsItsAssembly(string dockerfile, string project)
    {
        var text = Read(dockerfile);
        var csproj = Read(project);

        Assert.Contains($"dotnet publish {project}", text);
        var assembly = Regex.Match(csproj, "<AssemblyName>(.+?)</AssemblyName>").Groups[1].Value;
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"{assembly}.dll\"]", text);

        // Every project the published one depends on, transitively, is copied into the build stage.
        foreach (var folder in ProjectClosure(project).Select(p => p.Split('/')[0]))
        {
            Assert.Contains($"COPY {folder}/ {folder}/", text);
        }

        foreach (var copied in CopiedFolder().Matches(text).Select(m => m.Groups[1].Value))
        {
            Assert.True(Directory.Exists(Path.Combine(Root, copied)), $"{dockerfile} copies {copied}/, which does not exist");
        }
    }

    [Fact]
    public void EnvironmentVariables_InComposeManifestsAndDockerfiles_NameRealSettings()
    {
        var names = ComposeVariable().Matches(Compose).Select(m => m.Groups[1].Value)
            .Concat(ManifestVariable().Matches(Kubernetes).Select(m => m.Groups[1].Value))
            .Concat(Dockerfiles.Select(d => Read((string)d[0])).SelectMany(t => DockerfileVariable().Matches(t).Select(m => m.Groups[1].Value)))
            .Distinct()
            .ToArray();

        Assert.Contains("Cluster__Redis", names);
        foreach (var name in names)
        {
            Assert.True(IsSetting(name), $"{name} is not a setting of any host (see docs/configuration.md)");
        }
    }

    [Fact]
    public void Settings_ValuesInComposeAndManifests_AreValid()
    {
        Assert.All(SettingValues("Cluster__Redis"), v => Assert.Matches(@"^[\w.-]+:\d+$", v));
        Assert.All(SettingValues("Gateway__Mode"), v => Assert.True(Enum.TryParse<GatewayMode>(v, out _), $"Gateway__Mode={v}"));
        Assert.All(SettingValues("Urls"), v => Assert.Equal("http://0.0.0.0:8080", v));
    }

    [Fact]
    public void Ports_SiloAndGateway_AgreeAcrossComposeDockerfilesNginxAndManifests()
    {
        Assert.All(SettingValues("Cluster__SiloPort"), v => Assert.Equal("11111", v));
        Assert.All(SettingValues("Cluster__GatewayPort"), v => Assert.Equal("30000", v));
        Assert.All(SettingValues("Silo__HttpPort"), v => Assert.Equal("8080", v));
        Assert.Contains("EXPOSE 11111 30000 8080", Read("Silo/Dockerfile"));
        Assert.Contains("{ name: gateway, containerPort: 30000 }", Kubernetes);
        Assert.Contains("EXPOSE 8080", Read("Gateway.Host/Dockerfile"));
        Assert.Contains("{ name: cluster, containerPort: 11111 }", Kubernetes);
        Assert.Equal(["gateway1:8080", "gateway2:8080"], NginxUpstream().Matches(Nginx).Select(m => m.Groups[1].Value));
        Assert.Equal(["gateway1", "gateway2"], ComposeService().Matches(Compose).Select(m => m.Groups[1].Value).Where(s => s.StartsWith("gateway", StringComparison.Ordinal)));
    }

    [Fact]
    public void Probes_PointAtEndpointsTheHostsServe()
    {
        var paths = ProbePath().Matches(Kubernetes).Select(m => m.Groups[1].Value).Distinct().ToArray();
        var silo = Read("Silo/Program.cs");
        var gateway = Read("Gateway/Hosting/GatewayApplication.cs");

        Assert.Equal(["/healthz", "/healthz/ready"], paths.Order());
        Assert.All(paths, p => Assert.Contains($"MapGet(\"{p}\"", silo));
        Assert.All(paths, p => Assert.Contains($"MapGet(\"{p}\"", gateway));
    }

    [Fact]
    public void MetricsScrapeAnnotations_PointAtTheMetricsEndpointOnTheHttpPort()
    {
        foreach (var manifest in new[] { "deploy/k8s/gateway.yaml", "deploy/k8s/silo.yaml" })
        {
            var text = Read(manifest);
            Assert.Contains("prometheus.io/scrape: \"true\"", text);
            Assert.Contains("prometheus.io/port: \"8080\"", text);
            Assert.Contains("containerPort: 8080", text);
            Assert.Contains("prometheus.io/path: /metrics", text);
        }

        Assert.Contains("app.MapRealtimeMetrics()", Read("Silo/Program.cs"));
        Assert.Contains("app.MapRealtimeMetrics()", Read("Gateway/Hosting/GatewayApplication.cs"));
        Assert.Contains("MetricsPath { get; set; } = \"/metrics\"", Read("Hosting/Telemetry/RealtimeTelemetry.cs"));
        Assert.Contains("metric: { name: realtime_gateway_connections }", Read("deploy/k8s/hpa.yaml"));
    }

    [Fact]
    public void LoadBalancing_NginxAndTheGatewayService_HaveNoStickiness()
    {
        var directives = string.Join('\n', Nginx.Split('\n').Select(l => l.Split('#')[0]));
        Assert.DoesNotContain("ip_hash", directives);
        Assert.DoesNotMatch(@"^\s*hash\s", directives);
        Assert.DoesNotContain("sticky", directives);
        Assert.DoesNotContain("sessionAffinity", Kubernetes);
        Assert.Contains("proxy_set_header Upgrade $http_upgrade;", Nginx);
    }

    [Fact]
    public void Kubernetes_GracePeriod_IsLongerThanTheDrain()
    {
        // A silo stopping deactivates its grains (Orleans' DeactivationTimeout, 30 s at most) and leaves the table.
        var siloDrain = TimeSpan.FromSeconds(30);
        var hostShutdown = TimeSpan.FromSeconds(30); // the generic host's default shutdown timeout
        var preStop = TimeSpan.FromSeconds(5);

        var grace = GracePeriod().Matches(Kubernetes).Select(m => TimeSpan.FromSeconds(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))).ToArray();

        Assert.Equal(2, grace.Length);
        Assert.All(grace, g => Assert.True(g > siloDrain && g > hostShutdown + preStop, $"terminationGracePeriodSeconds {g.TotalSeconds} is too short"));
    }

    [Theory]
    [InlineData("deploy/k8s/silo.yaml")]
    [InlineData("deploy/k8s/gateway.yaml")]
    public void Kubernetes_SilosAndGatewaysUseOrleansKubernetesHosting_WithTheLabelsAndTheRoleItNeeds(string manifest)
    {
        var node = Read(manifest);

        Assert.Contains("- name: Cluster__Kubernetes\n              value: \"true\"", node);
        foreach (var variable in new[] { "POD_NAME", "POD_NAMESPACE", "POD_IP" })
        {
            Assert.Contains($"- name: {variable}\n", node);
        }

        // The labels name the cluster the settings name, the same for silos and gateways: one cluster.
        var clusterId = Regex.Match(node, @"- name: Cluster__ClusterId\s+value: (\S+)").Groups[1].Value;
        var serviceId = Regex.Match(node, @"- name: Cluster__ServiceId\s+value: (\S+)").Groups[1].Value;
        Assert.Contains($"orleans/clusterId: {clusterId}", node);
        Assert.Contains($"orleans/serviceId: {serviceId}", node);
        Assert.Contains($"orleans/clusterId: {clusterId}", Read("deploy/k8s/silo.yaml"));
        Assert.Contains("{ name: cluster, containerPort: 11111 }", node);
        Assert.Contains("- name: Cluster__AdvertisedHost\n              valueFrom: { fieldRef: { fieldPath: status.podIP } }", node);

        var account = Regex.Match(node, @"serviceAccountName: (\S+)").Groups[1].Value;
        Assert.Contains($"kind: ServiceAccount\nmetadata:\n  name: {account}\n", Kubernetes);
        Assert.Contains("resources: [\"pods\"]\n    verbs: [\"get\", \"watch\", \"list\", \"patch\"]", Kubernetes);
        Assert.Matches(@"kind: RoleBinding[\s\S]*- kind: ServiceAccount\s+name: " + account, Kubernetes);
    }

    [Fact]
    public void DisruptionBudgetsAndAutoscalers_TargetTheDeployments()
    {
        var deployments = Manifests.Where(m => m.Contains("kind: Deployment")).Select(m => Regex.Match(m, @"kind: Deployment\s+metadata:\s+name: (\S+)").Groups[1].Value).ToArray();

        Assert.Contains("realtime-silo", deployments);
        Assert.Contains("realtime-gateway", deployments);
        Assert.Equal(2, Regex.Matches(Kubernetes, "kind: PodDisruptionBudget").Count);
        var scaled = Regex.Matches(Kubernetes, @"kind: Deployment, name: (\S+) }").Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(["realtime-silo", "realtime-gateway"], scaled);
    }

    private static IEnumerable<string> SettingValues(string name) =>
        Regex.Matches(Compose, $@"^\s+{name}: ""?([^""\s]+)""?", RegexOptions.Multiline).Select(m => m.Groups[1].Value)
            .Concat(Regex.Matches(Kubernetes, $@"- name: {name}\s+value: ""?([^""\s]+)""?").Select(m => m.Groups[1].Value))
            .Concat(Dockerfiles.SelectMany(d => Regex.Matches(Read((string)d[0]), $@"{name}=(\S+)").Select(m => m.Groups[1].Value)));

    private static bool IsSetting(string name)
    {
        if (name == "Urls")
        {
            return true;
        }

        var parts = name.Split("__");
        if (parts.Length != 2)
        {
            return false;
        }

        return parts[0] switch
        {
            "Cluster" => HasProperty(typeof(RealtimeClusterOptions), parts[1]),
            "Gateway" => HasProperty(typeof(GatewayOptions), parts[1]),
            "Embedded" => HasProperty(typeof(EmbeddedSiloOptions), parts[1]),
            "Silo" => Read("Silo/Hosting/SiloOptions.cs").Contains($" {parts[1]} {{ get; set; }}", StringComparison.Ordinal),
            _ => false,
        };
    }

    private static bool HasProperty(Type type, string name) => type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance) is { CanWrite: true };

    private static IEnumerable<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }

            var folder = Path.GetDirectoryName(current)!;
            foreach (Match reference in Regex.Matches(Read(current), @"<ProjectReference Include=""..\\([^\\]+)\\([^""]+)""(?! ReferenceOutputAssembly=""false"")"))
            {
                pending.Push($"{reference.Groups[1].Value}/{reference.Groups[2].Value}");
            }

            // Source files a project links from a folder of their own (Shared/) are needed as much as its references.
            foreach (Match linked in Regex.Matches(Read(current), @"<Compile Include=""..\\([^\\]+)\\"))
            {
                seen.Add($"{linked.Groups[1].Value}/(linked sources)");
            }

            _ = folder;
        }

        return seen;
    }

    private static string Read(string relative) => File.ReadAllText(Path.Combine(Root, relative));

    [GeneratedRegex(@"dockerfile: (\S+) }")]
    private static partial Regex DockerfileReference();

    [GeneratedRegex(@"^COPY (\w[\w.]*)/ \1/$", RegexOptions.Multiline)]
    private static partial Regex CopiedFolder();

    [GeneratedRegex(@"^\s{6}(\w+): ", RegexOptions.Multiline)]
    private static partial Regex ComposeVariable();

    [GeneratedRegex(@"- name: (\w+__\w+|Urls)\s")]
    private static partial Regex ManifestVariable();

    [GeneratedRegex(@"(\w+__\w+|Urls)=")]
    private static partial Regex DockerfileVariable();

    [GeneratedRegex(@"^\s+server (\S+);", RegexOptions.Multiline)]
    private static partial Regex NginxUpstream();

    [GeneratedRegex(@"^  (\w+):$", RegexOptions.Multiline)]
    private static partial Regex ComposeService();

    [GeneratedRegex(@"httpGet: \{ path: (\S+), port: http \}")]
    private static partial Regex ProbePath();

    [GeneratedRegex(@"terminationGracePeriodSeconds: (\d+)")]
    private static partial Regex GracePeriod();
}
