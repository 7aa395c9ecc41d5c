using Microsoft.AspNetCore.Connections;

namespace Realtime.Runtime.Internal.Transport;

/// <summary>Kestrel's side of node-to-node connections: every accepted connection is served by the message center.</summary>
internal sealed class SiloConnectionHandler(MessageCenter messages) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection) => messages.AcceptAsync(connection);
}
