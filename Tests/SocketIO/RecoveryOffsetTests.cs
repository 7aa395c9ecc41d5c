using System.Text;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.SignalR;
using Realtime.Gateway.SocketIO.Internal;

namespace Realtime.Tests.SocketIO;

/// <summary>The offset of socket.io connection state recovery: what it holds, and what a gateway accepts as one.</summary>
public sealed class RecoveryOffsetTests
{
    private const string Room = "RealtimeHub//lobby";
    private const string Namespace = "RealtimeHub/";

    [Fact]
    public void Encode_ThenDecode_GivesEveryStreamsPositionBack()
    {
        var own = new GroupPosition("00112233aabb", 3);
        var offset = RecoveryOffset.Encode(own, [(RecoveryOffset.Tag(Room), new GroupPosition("0123456789ab", 300)), (RecoveryOffset.Tag(Namespace), new GroupPosition("ba9876543210", 1))]);

        var decoded = RecoveryOffset.Decode(offset);

        Assert.NotNull(decoded);
        Assert.Equal(own, decoded.Own);
        Assert.Equal(new GroupPosition("0123456789ab", 300), decoded.Of(Room));
        Assert.Equal(new GroupPosition("ba9876543210", 1), decoded.Of(Namespace));
        Assert.Null(decoded.Of("RealtimeHub//other"));
        Assert.All(offset, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_', "base64url, safe in JSON and URLs"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64 !")]
    [InlineData("AQ")] // the version, then nothing
    [InlineData("Ag")] // another version
    [InlineData("hello")] // the last string argument of an ordinary event, taken by the client for an offset
    public void Decode_SomethingNotWrittenByAGateway_IsNull(string offset) => Assert.Null(RecoveryOffset.Decode(offset));

    [Fact]
    public void Decode_ATruncatedOrExtendedOffset_IsNull()
    {
        var offset = RecoveryOffset.Encode(new GroupPosition("00112233aabb", 3), [(RecoveryOffset.Tag(Room), new GroupPosition("0123456789ab", 300))]);
        Assert.Null(RecoveryOffset.Decode(offset[..^3]));
        Assert.Null(RecoveryOffset.Decode(offset + "AA"));
    }

    [Fact]
    public void Positions_MoveOnlyForward_AndJoinsWaitWhileRestoring()
    {
        var positions = new RecoveryPositions(new GroupPosition(LocalHub<RealtimeHub>.SessionStart, 0));
        positions.Joined(Room, new GroupPosition("0123456789ab", 10));
        positions.Advance(new StreamPosition(Room, "0123456789ab", 12));
        positions.Advance(new StreamPosition(Room, "0123456789ab", 11)); // late, out of its chain's order
        Assert.Equal(12, positions.Of(Room)!.Sequence);

        positions.Advance(new StreamPosition("RealtimeHub/abc", "00112233aabb", 4, ToConnection: true));
        Assert.Equal(new GroupPosition("00112233aabb", 4), positions.Own);

        positions.Restoring = true;
        positions.Joined(Namespace, new GroupPosition("ba9876543210", 99));
        Assert.Null(positions.Of(Namespace));
        positions.Restoring = false;

        positions.Left(Room);
        Assert.Null(RecoveryOffset.Decode(positions.Offset())!.Of(Room));
        Assert.Equal(new GroupPosition("00112233aabb", 4), RecoveryOffset.Decode(positions.Offset())!.Own);
    }

    [Theory]
    [InlineData("42[\"said\",{\"a\":1}]", "42[\"said\",{\"a\":1},\"OFF\"]")]
    [InlineData("42/chat,[\"ping\"]", "42/chat,[\"ping\",\"OFF\"]")]
    [InlineData("451-[\"file\",{\"_placeholder\":true,\"num\":0}]", "451-[\"file\",{\"_placeholder\":true,\"num\":0},\"OFF\"]")]
    public void WithOffset_AddsTheOffsetAsTheLastArgument(string frame, string expected)
    {
        var with = SocketIOEncoding.WithOffset(new SocketIOFrame(Encoding.UTF8.GetBytes(frame), []), "OFF");
        Assert.Equal(expected, Encoding.UTF8.GetString(with.Text.Span));
    }
}
