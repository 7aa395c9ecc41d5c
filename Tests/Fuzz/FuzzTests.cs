using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Fuzz;

/// <summary>Runs alone, so that its memory and unobserved-exception checks see only its own traffic.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "Fuzz";
}

/// <summary>
/// Thousands of generated malformed inputs, seeded and deterministic (<c>REALTIME_FUZZ_SEED</c> replays another
/// seed), bounded in time: SignalR JSON frames, Engine.IO polling bodies and query strings, Socket.IO packets over
/// WebSocket (text and binary), HTTP API bodies and query strings. Every case gets a clear answer (a 4xx, an error
/// completion, a closed session), never a 5xx; the gateway and its other clients go on; no exception goes
/// unobserved; memory is flat after the run.
/// </summary>
[Collection(FuzzCollection.Name)]
public sealed class FuzzTests : IAsyncLifetime
{
    private const string ApiKey = "a-fuzz-api-key-0123456789";
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(75);

    private static readonly string[] FrameTemplates =
    [
        """{"type":1,"invocationId":"1","target":"Echo","arguments":["e",{"a":[1,2,3]}]}""",
        """{"type":1,"target":"SendToRoom","arguments":["fuzz","e","data"]}""",
        """{"type":1,"invocationId":"2","target":"Join","arguments":["fuzz"]}""",
        """{"type":1,"invocationId":"3","target":"Presence","arguments":["fuzz"]}""",
        """{"type":3,"invocationId":"r1","result":42}""",
        """{"type":6}""",
        """{"type":4,"invocationId":"s","target":"Echo","arguments":[]}""",
    ];

    private static readonly string[] EventTemplates =
    [
        """{"event":"e","room":"fuzz","data":{"k":"v"}}""",
        """{"event":"e","namespace":"/fuzz","data":[1,2,3]}""",
        """{"event":"e","user":"u","data":null}""",
        """{"event":"e","connection":"c","data":"text"}""",
    ];

    private static readonly string[] PollingTemplates =
    [
        "40", "42[\"e\",{\"a\":1}]", "2", "3", "1", "6", "421[\"e\"]", "451-[\"e\",{\"_placeholder\":true,\"num\":0}]\u001ebAQID", "40/fuzz,{\"t\":1}",
        "43[\"e\"]", "4\u001e42[\"x\"]", "bAAEC",
    ];

    private static readonly string[] QueryTemplates =
    [
        "EIO=4&transport=polling", "EIO=4&transport=polling&sid=abc", "EIO=3&transport=websocket", "EIO=4&transport=polling&t=x&b64=1",
    ];

    private static readonly string[] ApiQueryTemplates = ["room=fuzz", "namespace=/fuzz&room=r", "room=&namespace=", "withData=true&room=r"];

    private TestGateway _gateway = null!;
    private HttpClient _http = null!;
    private readonly List<string> _failures = [];
    private int _cases;

    public async Task InitializeAsync()
    {
        _gateway = await TestGateway.StartAsync($"--Api:Keys:0={ApiKey}");
        _http = new HttpClient { BaseAddress = _gateway.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        _http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
    }

    [Fact]
    public async Task GeneratedMalformedInput_EveryCaseGetsAClearAnswer_TheGatewayGoesOn_MemoryStaysFlat()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("REALTIME_FUZZ_SEED"), out var given) ? given : 20261202;
        var mutator = new Mutator(seed);
        var unobserved = new List<Exception>();

        // What earlier tests left for the finalizer is theirs: it is flushed before this test starts to listen.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (IsOrleansDisposedUpdateFeed(e.Exception))
            {
                return;
            }

            lock (unobserved)
            {
                unobserved.Add(e.Exception);
            }
        }

        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            var deadline = DateTime.UtcNow + Budget;

            // A first round warms everything up; memory is measured after it, and after the rounds that follow.
            await RoundAsync(mutator, 150, deadline);
            var before = Heap();
            for (var round = 0; round < 4 && DateTime.UtcNow < deadline; round++)
            {
                await RoundAsync(mutator, 300, deadline);
            }

            var after = Heap();

            Assert.True(_failures.Count == 0, $"seed {seed}: {_failures.Count} case(s) without a clear answer, first: {string.Join(" | ", _failures.Take(5))}");
            Assert.True(_cases >= 3000, $"only {_cases} cases ran within {Budget.TotalSeconds} s");
            Assert.True(after - before < 48L * 1024 * 1024, $"the heap grew by {(after - before) / 1024 / 1024} MiB over the run ({before / 1024 / 1024} → {after / 1024 / 1024} MiB)");

            // The gateway goes on, for SignalR and socket.io alike.
            await using var control = await _gateway.ConnectAsync("control");
            await control.InvokeAsync("Echo", "still", "here");
            await control.WaitForEventAsync("still");
            Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/socket.io/?EIO=4&transport=polling").Within("a socket.io handshake")).StatusCode);
        }
        finally
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }

        Assert.True(unobserved.Count == 0, $"{unobserved.Count} unobserved exception(s), first: {unobserved.FirstOrDefault()}");
    }

    /// <summary>
    /// Orleans ends each of its update feeds (membership, cluster manifest) on dispose with an element whose task
    /// holds an ObjectDisposedException that no one awaits, so a silo or client disposed by any test of this
    /// process reports it to the finalizer, never thrown and without a stack trace. It is not an input's doing.
    /// </summary>
    private static bool IsOrleansDisposedUpdateFeed(AggregateException exception) =>
        exception.InnerExceptions.All(e => e is ObjectDisposedException { StackTrace: null, ObjectName: "This instance has been disposed" });

    private async Task RoundAsync(Mutator mutator, int perTarget, DateTime deadline)
    {
        await SignalRFramesAsync(mutator, perTarget, deadline);
        await ApiAsync(mutator, perTarget, deadline);
        await PollingAsync(mutator, perTarget, deadline);
        await SocketIOWebSocketAsync(mutator, perTarget, deadline);
    }

    /// <summary>Malformed SignalR frames on one connection: it gets errors, or is closed by a close frame, and never breaks the gateway.</summary>
    private async Task SignalRFramesAsync(Mutator mutator, int count, DateTime deadline)
    {
        var client = await _gateway.ConnectRawAsync("fuzzer", "fuzz");
        try
        {
            for (var i = 0; i < count && DateTime.UtcNow < deadline; i++)
            {
                if (client.Closed.IsCompleted)
                {
                    await client.DisposeAsync();
                    client = await _gateway.ConnectRawAsync("fuzzer", "fuzz");
                }

                _cases++;
                try
                {
                    await client.SendRawAsync(mutator.Mutate(mutator.Pick(FrameTemplates)));
                }
                catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or InvalidOperationException)
                {
                    // Closed under us by a frame that asked for it; the next case reconnects.
                }

                if (i % 50 == 49 && !client.Closed.IsCompleted)
                {
                    // The connection still answers: an echo comes back (or the connection was closed meanwhile).
                    try
                    {
                        await client.InvokeAsync("Echo", "alive", i);
                    }
                    catch (HubErrorException) when (client.Closed.IsCompleted)
                    {
                    }
                    catch (HubErrorException ex)
                    {
                        _failures.Add($"signalr#{i}: a well-formed call after malformed frames failed: {ex.Message}");
                    }
                }
            }
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    /// <summary>HTTP API bodies and query strings: 2xx or 4xx, never 5xx.</summary>
    private async Task ApiAsync(Mutator mutator, int count, DateTime deadline)
    {
        for (var i = 0; i < count && DateTime.UtcNow < deadline; i++)
        {
            _cases++;
            HttpResponseMessage response;
            string input;
            if (i % 2 == 0)
            {
                input = mutator.Mutate(mutator.Pick(EventTemplates));
                response = await _http.PostAsync("api/v1/events", new StringContent(input, Encoding.UTF8, "application/json")).Within("an API post");
            }
            else
            {
                input = mutator.Mutate(mutator.Pick(ApiQueryTemplates));
                if (!Uri.TryCreate(_gateway.BaseUri, "api/v1/presence?" + input, out var uri))
                {
                    continue;
                }

                response = await _http.GetAsync(uri).Within("an API query");
            }

            if ((int)response.StatusCode >= 500)
            {
                _failures.Add($"api#{i}: {(int)response.StatusCode} for {Shorten(input)}");
            }
        }
    }

    /// <summary>Engine.IO polling bodies and handshake query strings: 200, 400 or 413, never 5xx.</summary>
    private async Task PollingAsync(Mutator mutator, int count, DateTime deadline)
    {
        string? sid = null;
        for (var i = 0; i < count && DateTime.UtcNow < deadline; i++)
        {
            _cases++;
            if (i % 4 == 0)
            {
                var query = mutator.Mutate(mutator.Pick(QueryTemplates));
                if (Uri.TryCreate(_gateway.BaseUri, "/socket.io/?" + query, out var uri))
                {
                    var answer = await _http.GetAsync(uri).Within("a polling handshake");
                    Check($"polling-query#{i}", answer.StatusCode, query);
                }

                continue;
            }

            if (sid is null)
            {
                var open = await _http.GetStringAsync("/socket.io/?EIO=4&transport=polling").Within("a handshake");
                sid = JsonDocument.Parse(open[1..]).RootElement.GetProperty("sid").GetString();
            }

            var body = i % 7 == 0 ? Convert.ToBase64String(mutator.Bytes(64)) : mutator.Mutate(mutator.Pick(PollingTemplates));
            var response = await _http.PostAsync($"/socket.io/?EIO=4&transport=polling&sid={Uri.EscapeDataString(sid!)}", new StringContent(body)).Within("a polling post");
            Check($"polling#{i}", response.StatusCode, body);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                sid = null; // the session was closed for it
            }
        }
    }

    /// <summary>Socket.IO packets over a WebSocket, text and binary: the session answers or is closed, never the gateway.</summary>
    private async Task SocketIOWebSocketAsync(Mutator mutator, int count, DateTime deadline)
    {
        ClientWebSocket? socket = null;
        try
        {
            for (var i = 0; i < count && DateTime.UtcNow < deadline; i++)
            {
                if (socket is not { State: WebSocketState.Open })
                {
                    socket?.Dispose();
                    socket = await OpenSocketIOAsync();
                }

                _cases++;
                try
                {
                    if (i % 5 == 0)
                    {
                        await socket.SendAsync(mutator.Bytes(128), WebSocketMessageType.Binary, true, CancellationToken.None).Within("a binary frame");
                    }
                    else
                    {
                        var packet = "4" + mutator.Mutate(mutator.Pick(PollingTemplates)).TrimStart('4');
                        await socket.SendAsync(Encoding.UTF8.GetBytes(packet), WebSocketMessageType.Text, true, CancellationToken.None).Within("a text frame");
                    }
                }
                catch (WebSocketException)
                {
                    // The session was closed for an earlier packet; the next case opens another.
                }
            }
        }
        finally
        {
            socket?.Dispose();
        }
    }

    private async Task<ClientWebSocket> OpenSocketIOAsync()
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{_gateway.BaseUri.Authority}/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).Within("a socket.io WebSocket");
        _ = DrainAsync(socket);
        await socket.SendAsync("40"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None).Within("a namespace connect");
        return socket;
    }

    /// <summary>Reads (and drops) what the server sends, so that its writes never wait on this client.</summary>
    private static async Task DrainAsync(ClientWebSocket socket)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                await socket.ReceiveAsync(buffer, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Closed.
        }
    }

    private void Check(string name, HttpStatusCode status, string input)
    {
        if (status is not (HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed))
        {
            _failures.Add($"{name}: {(int)status} for {Shorten(input)}");
        }
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static string Shorten(string input) => JsonSerializer.Serialize(input.Length > 120 ? input[..120] + "…" : input);
}
