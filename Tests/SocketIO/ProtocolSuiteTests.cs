using System.Diagnostics;
using System.Text.Json;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// The official protocol test suites, the <c>test-suite/</c> folders of the public repositories
/// <c>socketio/engine.io-protocol</c> and <c>socketio/socket.io-protocol</c>, run as they are (mocha, their own
/// package-lock) against <c>samples/ProtocolConformance</c>, the server their READMEs describe, built on this project's
/// socket.io and Engine.IO APIs. They are not this project's to commit and are not published on npm: point
/// <c>REALTIME_PROTOCOL_SUITES</c> at a folder holding clones of both repositories
/// (<c>engine.io-protocol/test-suite</c>, <c>socket.io-protocol/test-suite</c>); without it these tests are skipped.
/// <see cref="ProtocolConformanceTests"/> checks the same behaviours in this project's own tests, always.
/// </summary>
/// <remarks>
/// Two things are adapted, not the tests: the suites' address (<c>http://localhost:3000</c>) becomes the server's
/// loopback port, and the Socket.IO suite gets a WebSocket that keeps messages arriving while it does not listen
/// (<c>Tests/SocketIO/node/protocol-suite-imports.mjs</c>): its waits add a one-shot listener only after the previous
/// message resolved, so a CONNECT answer and the event right after it, read together, lose the event; socket.io 4.8's
/// own server failed 1 to 3 of its 32 tests that way in five runs here, and none with that WebSocket.
/// </remarks>
[Collection(Cluster.ClusterCollection.Name)]
public sealed class ProtocolSuiteTests
{
    /// <summary>The environment variable naming the folder with the suites' repositories.</summary>
    public const string SuitesVariable = "REALTIME_PROTOCOL_SUITES";

    [ProtocolSuiteFact]
    public Task EngineIOProtocolSuite_EveryTestPasses() => RunSuiteAsync("engine.io-protocol", keepMessages: false);

    [ProtocolSuiteFact]
    public Task SocketIOProtocolSuite_EveryTestPasses() => RunSuiteAsync("socket.io-protocol", keepMessages: true);

    private static async Task RunSuiteAsync(string repository, bool keepMessages)
    {
        var source = Path.Combine(Environment.GetEnvironmentVariable(SuitesVariable)!, repository, "test-suite");
        var suite = Directory.CreateTempSubdirectory($"realtime-{repository}-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(source))
            {
                File.Copy(file, Path.Combine(suite, Path.GetFileName(file)));
            }

            var port = NodeProcess.FreePort();
            var tests = Path.Combine(suite, "test-suite.js");
            var text = await File.ReadAllTextAsync(tests);
            const string Address = "const URL = \"http://localhost:3000\";";
            Assert.True(text.Contains(Address, StringComparison.Ordinal), $"{repository}'s test suite no longer says {Address}");
            await File.WriteAllTextAsync(tests, text.Replace(Address, $"const URL = \"http://127.0.0.1:{port}\";", StringComparison.Ordinal));
            if (keepMessages)
            {
                File.Copy(Path.Combine(Build.RepositoryRoot, "Tests", "SocketIO", "node", "protocol-suite-imports.mjs"), Path.Combine(suite, "node-imports.js"), overwrite: true);
            }

            var (installed, installOutput, installErrors) = await RunAsync(suite, "npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(3));
            Assert.True(installed == 0, $"npm ci of {repository}'s test suite failed:{Environment.NewLine}{installOutput}{installErrors}");

            await using var server = await ProtocolConformanceTests.Server.StartAsync(port);

            var (_, report, errors) = await RunAsync(suite, "npx", ["mocha", "test-suite.js", "--reporter", "json"], TimeSpan.FromMinutes(3));
            var start = report.IndexOf('{', StringComparison.Ordinal);
            Assert.True(start >= 0, $"mocha printed no report:{Environment.NewLine}{report}{errors}");
            var results = JsonDocument.Parse(report[start..]).RootElement;
            var failures = results.GetProperty("failures").EnumerateArray()
                .Select(f => $"{f.GetProperty("fullTitle").GetString()}: {f.GetProperty("err").GetProperty("message").GetString()}")
                .ToList();
            Assert.True(failures.Count == 0, $"{failures.Count} of {repository}'s tests failed:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
            Assert.True(results.GetProperty("stats").GetProperty("passes").GetInt32() > 20, $"{repository}'s suite ran too few tests: {results.GetProperty("stats")}");
        }
        finally
        {
            Directory.Delete(suite, recursive: true);
        }
    }

    /// <summary>Runs a command in a folder; its exit code, standard output and standard error.</summary>
    private static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string folder, string command, string[] arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(command) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().Within($"{command} {string.Join(' ', arguments)}", timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await errors);
    }
}

/// <summary>A test that runs only when the official protocol test suites are on this machine (<see cref="ProtocolSuiteTests.SuitesVariable"/>).</summary>
public sealed class ProtocolSuiteFactAttribute : FactAttribute
{
    public ProtocolSuiteFactAttribute()
    {
        var folder = Environment.GetEnvironmentVariable(ProtocolSuiteTests.SuitesVariable);
        if (string.IsNullOrEmpty(folder) || !Directory.Exists(Path.Combine(folder, "socket.io-protocol", "test-suite")) || !Directory.Exists(Path.Combine(folder, "engine.io-protocol", "test-suite")))
        {
            Skip = $"The official protocol test suites are not on this machine: set {ProtocolSuiteTests.SuitesVariable} to a folder with clones of "
                + "github.com/socketio/engine.io-protocol and github.com/socketio/socket.io-protocol (they are not on npm, and CI cannot reach GitHub).";
        }
    }
}
