# Second pass for ExecPlans (reading left too few: the first pick's skill file and unclear files):
# the repositories after the first pick's last ExecPlan repository (moorage/free-markdown-viewer)
# in the seeded order, fetched ones only, listed as list.py does. Writes files2.json.
import json, subprocess
subprocess.run(['python3', 'list.py', '/tmp/r4-files2-all.json', 'execplan'], check=True, capture_output=True)
res = json.load(open('/tmp/r4-files2-all.json'))
order = open('order.txt').read().split('\n')
ep = [l.split()[1:] for l in order if l.startswith('execplan ')][0]
after = ep[ep.index('moorage/free-markdown-viewer') + 1:]
out = {k: v for k, v in res.items() if k.split()[1] in after}
json.dump(out, open('files2.json', 'w'), indent=0)
for k, (h, c) in sorted(out.items()):
    print(k, h[:12], len(c))
