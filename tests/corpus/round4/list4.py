# Fourth pass for plans without ids (the third pass's eight were all dropped on reading): the
# repositories after the third pick's last noid repository (Jacket-69/comand-ia) in the seeded
# order, fetched ones only, listed as list.py does. Writes files4.json.
import json, subprocess
subprocess.run(['python3', 'list.py', '/tmp/r4-files4-all.json', 'noid'], check=True, capture_output=True)
res = json.load(open('/tmp/r4-files4-all.json'))
repos = [l.split()[1:] for l in open('order.txt') if l.startswith('noid ')][0]
after = repos[repos.index('Jacket-69/comand-ia') + 1:]
out = {k: v for k, v in res.items() if k.split()[1] in after}
json.dump(out, open('files4.json', 'w'), indent=0)
for k, (h, c) in sorted(out.items()):
    print(k, (h or '')[:12], len(c))
