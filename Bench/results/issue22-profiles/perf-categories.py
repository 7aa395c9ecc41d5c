"""CPU samples of the server processes per million deliveries, by where the code comes from.

Usage: perf-categories.py RUN1 DELIVERIES_IN_MILLIONS RUN2 DELIVERIES_IN_MILLIONS ...
Each RUN has RUN.data (perf record -a -F 499 over 20 s of the saturated window, with DOTNET_PerfMapEnabled=1) and
RUN.pids (the server processes, one "pid args" line each). Used for the issue 22 comparison in BENCHMARKS.md.
"""
import sys,re,subprocess,collections
def cats(n):
    pids=','.join(l.split()[0] for l in open(n+'.pids'))
    out=subprocess.run(['perf','report','-i',n+'.data','--pid',pids,'--sort','dso,sym','-n','--stdio'],capture_output=True,text=True).stdout
    d=collections.Counter()
    for line in out.splitlines():
        if not line.strip() or line.startswith('#'): continue
        parts=line.split(None,3)
        if len(parts)<4: continue
        c=int(parts[1]); rest=parts[2]+' '+parts[3]
        m=re.search(r'\[(\w+(\.\w+)*)\] ',parts[3])
        if '[kernel' in rest or '[k]' in rest: k='kernel'
        elif 'libcoreclr' in rest: k='coreclr'
        elif 'libclrjit' in rest: k='jit'
        elif 'libc.so' in rest or 'vdso' in rest: k='libc'
        elif m: 
            a=m.group(1)
            k='realtime' if a.startswith('Realtime') else 'orleans' if a.startswith('Orleans') else 'aspnetcore' if a.startswith('Microsoft.AspNetCore') else 'bcl:'+a.split('.')[0]+('.'+a.split('.')[1] if '.' in a else '')
        else: k='other'
        d[k]+=c
    return d
runs=sys.argv[1::2]; rates=[float(x) for x in sys.argv[2::2]]
D=[cats(n) for n in runs]
keys=sorted(set().union(*D),key=lambda k:-D[0][k])
print('%-28s'%'category'+''.join('%10s'%r for r in runs))
for k in keys+['TOTAL']:
    print('%-28s'%k+''.join('%10.1f'%((sum(d.values()) if k=='TOTAL' else d[k])/r) for d,r in zip(D,rates)))
