using System.IO.Compression;
using System.Xml.Linq;
using Realtime.Tests.Cluster;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;
using Xunit.Abstractions;

namespace Realtime.Tests.Packaging;

/// <summary>
/// The NuGet packages an application references: <c>dotnet pack</c> makes them, with the metadata NuGet shows and
/// their symbols, and the samples that add realtime to an existing app and to an existing silo build against them from
/// a folder feed, copied out of the repository as a user's project would be (no project reference can help).
/// </summary>
[Collection(ClusterCollection.Name)] // one at a time: packing and restoring take both cores
public sealed class PackageTests(ITestOutputHelper output)
{
    private static readonly string[] Packages =
    [
        "Orleans.Realtime.Grains.Interfaces", "Orleans.Realtime.Wire", "Orleans.Realtime.Grains",
        "Orleans.Realtime.Hosting", "Orleans.Realtime.Client", "Orleans.Realtime.Gateway",
    ];

    [Fact]
    public async Task Pack_MakesEveryLibrarysPackage_WithItsMetadataAndSymbols_AndTheSamplesBuildAgainstThem()
    {
        var work = Directory.CreateTempSubdirectory("realtime-packages-");
        var version = $"{RealtimeVersion()}-ci.{DateTime.UtcNow:yyyyMMddHHmmss}";
        try
        {
            var feed = Path.Combine(work.FullName, "feed");
            await RunAsync(Build.RepositoryRoot, "pack", "Orleans.Realtime.sln", "-c", Build.Configuration, "--no-build", "-o", feed, $"-p:PackageVersion={version}");

            // Exactly the libraries are packed (no host, sample, test or benchmark), each with its symbols.
            var packed = Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).Order().ToArray();
            Assert.Equal(Packages.Select(p => $"{p}.{version}.nupkg").Order(), packed);
            foreach (var id in Packages)
            {
                Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.snupkg")), $"{id} has no symbol package");
                AssertMetadata(Path.Combine(feed, $"{id}.{version}.nupkg"), id, version);
            }

            // The samples, copied out with the repository's shared build settings, build against the feed alone.
            File.WriteAllText(Path.Combine(work.FullName, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="realtime" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", ".editorconfig", "README.md", "LICENSE" })
            {
                File.Copy(Path.Combine(Build.RepositoryRoot, file), Path.Combine(work.FullName, file));
            }

            foreach (var sample in new[] { "ExistingApp", "ExistingSilo" })
            {
                var copy = Path.Combine(work.FullName, "samples", sample);
                CopyFolder(Path.Combine(Build.RepositoryRoot, "samples", sample), copy);
                await RunAsync(copy, "build", "-c", "Release", "-p:RealtimeFromPackages=true", $"-p:RealtimePackageVersion={version}");
                var assets = File.ReadAllText(Path.Combine(copy, "obj", "project.assets.json"));
                Assert.Contains($"\"Orleans.Realtime.Grains/{version}\"", assets);
                Assert.DoesNotContain("\"type\": \"project\"", assets);
            }

            // The app built from the packages runs (embedded, one process) and serves what the package built in.
            await AssertServesBrowserClientsAsync(Path.Combine(work.FullName, "samples", "ExistingApp", "bin", "Release", "net10.0", "Realtime.Samples.ExistingApp.dll"));
        }
        finally
        {
            work.Delete(recursive: true);
            ForgetCachedPackages(version);
        }
    }

    private static async Task AssertServesBrowserClientsAsync(string assembly)
    {
        var port = NodeProcess.FreePort();
        await using var app = NodeProcess.Start("app", "dotnet", [assembly, $"--Urls=http://127.0.0.1:{port}", $"--Cluster:SiloPort={NodeProcess.FreePort()}", "--Cluster:GatewayPort=0"], port);
        await Eventually.True(() => app.Output.Contains("Application started", StringComparison.Ordinal) || app.HasExited, "the app built from the packages to start", TimeSpan.FromSeconds(60));
        Assert.False(app.HasExited, app.Output);
        using var http = new HttpClient();
        Assert.Contains("signalR", await http.GetStringAsync($"http://127.0.0.1:{port}/lib/signalr/signalr.min.js").Within("the SignalR client"), StringComparison.Ordinal);
        Assert.Contains("io", await http.GetStringAsync($"http://127.0.0.1:{port}/socket.io/socket.io.js").Within("the socket.io client"), StringComparison.Ordinal);
    }

    private static void AssertMetadata(string package, string id, string version)
    {
        using var zip = ZipFile.OpenRead(package);
        var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;

        Assert.Equal(id, Value("id"));
        Assert.Equal(version, Value("version"));
        Assert.False(string.IsNullOrWhiteSpace(Value("description")), $"{id} has no description");
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("README.md", Value("readme"));
        Assert.Contains("orleans", Value("tags") ?? "", StringComparison.Ordinal);
        Assert.NotNull(zip.GetEntry("README.md"));
        Assert.NotNull(zip.GetEntry("LICENSE"));

        // Source Link: the commit the package was built from is recorded, for the debugger to fetch the sources.
        var repository = metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository");
        Assert.Matches("^[0-9a-f]{40}$", repository?.Attribute("commit")?.Value ?? "");

        // Packages depend on each other by the same version.
        foreach (var dependency in metadata.Descendants().Where(e => e.Name.LocalName == "dependency" && e.Attribute("id")!.Value.StartsWith("Orleans.Realtime.", StringComparison.Ordinal)))
        {
            Assert.Equal(version, dependency.Attribute("version")!.Value);
        }
    }

    private async Task RunAsync(string folder, params string[] arguments)
    {
        await using var process = NodeProcess.Start("dotnet", "dotnet", [.. arguments, "-nologo", "-v", "quiet"], 0, workingDirectory: folder);
        var exitCode = await process.WaitForExitCodeAsync(TimeSpan.FromMinutes(5));
        output.WriteLine($"dotnet {string.Join(' ', arguments)}: {exitCode}");
        Assert.True(exitCode == 0, $"dotnet {string.Join(' ', arguments)} failed:{Environment.NewLine}{process.Output}");
    }

    private static string RealtimeVersion() =>
        XDocument.Load(Path.Combine(Build.RepositoryRoot, "Directory.Build.props")).Descendants("RealtimeVersion").Single().Value;

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj")
            {
                continue;
            }

            var target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>The packages this run restored stay out of the user's NuGet cache.</summary>
    private static void ForgetCachedPackages(string version)
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in Packages)
        {
            var folder = Path.Combine(cache, id.ToLowerInvariant(), version);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
