"""Where a socket.io gateway's CPU goes, before and after, by code path (inclusive shares of its samples).

Usage: profile-table.py BEFORE.txt BEFORE_PIDS AFTER.txt AFTER_PIDS
Each .txt is `perf script -F pid,ip,sym,dso --no-inline` of `perf record -a -F 499 -g` over 15 s of the saturated
small-room fan-out (cluster-socketio, fanout-small-js, DOTNET_PerfMapEnabled=1); each PIDS is the gateways' process
ids, comma-separated. Used for the issue 23 profile in BENCHMARKS.md.
"""
import collections,sys
rows=[
 ('the handler of `my_room_event` (parse the event, encode it for socket.io and SignalR, the room grain call)',['Socket+<HandleAsync>']),
 ('  of which: the emit (`BroadcastOperator.EmitAsync`)',['BroadcastOperator::EmitAsync']),
 ('  of which: `GetGrain<IRoomGrain>(key)` (Orleans reads the interface attributes)',['GetGrain(string,string)']),
 ('a delivery into the local sockets (`DeliveryOrder`, `ApplyToGroup`, per-socket queue)',['DeliveryOrder::Accept']),
 ('the Engine.IO write loop (WebSocket frames, writes, flushes)',['EngineSession+<WriteLoopAsync>']),
 ('  of which: `ManagedWebSocket.SendAsync`',['ManagedWebSocket::SendAsync']),
 ('Orleans serializing messages between silos',['MessageSerializer::Write']),
 ('  of which: a codec looked up by reflection for the payload\'s list type',['TryCreateCodec']),
 ('the Engine.IO read loop',['EngineSession+<ReceiveAsync>']),
 ('metrics (OpenTelemetry)',['OpenTelemetry']),
 ('the kernel, under `send`',None),
 ('the kernel, all',None),
]
def load(f,pids):
    tot=0;c=collections.Counter();block=[];pid=None
    def flush():
        nonlocal tot
        if pid in pids and block:
            tot+=1;s='\n'.join(block)
            for name,keys in rows:
                if keys and any(k in s for k in keys): c[name]+=1
            if 'kernel.kallsyms' in block[0]:
                c['the kernel, all']+=1
                for l in block:
                    if 'kernel.kallsyms' not in l:
                        if '__send' in l: c['the kernel, under `send`']+=1
                        break
    for line in open(f):
        if not line.strip(): flush(); block=[]; pid=None; continue
        if not line.startswith((' ','\t')): flush(); block=[]; pid=line.split()[0]
        else: block.append(line)
    flush()
    return tot,c
a=load(sys.argv[1],set(sys.argv[2].strip(',').split(',')))
b=load(sys.argv[3],set(sys.argv[4].strip(',').split(',')))
print('| where a gateway\'s CPU goes (inclusive) | before | after |')
print('|---|---:|---:|')
for name,_ in rows:
    print('| %s | %.1f %% | %.1f %% |'%(name,100*a[1][name]/a[0],100*b[1][name]/b[0]))
print('samples', a[0], b[0])
