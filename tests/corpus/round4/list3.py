# Third pass for plans without ids and ticket bundles (reading dropped many of the first pick):
# per kind, the repositories after the first pick's last repository of that kind in the seeded
# order, fetched ones only, listed as list.py does. Writes files3.json.
import json, subprocess
subprocess.run(['python3', 'list.py', '/tmp/r4-files3-all.json', 'noid', 'bundle'], check=True, capture_output=True)
res = json.load(open('/tmp/r4-files3-all.json'))
last = {'noid': 'JTM-Kaihatsu/stock-indicator-dailies', 'bundle': 'codeagentapphoria-bot/united-system'}
out = {}
for line in open('order.txt'):
    k, *repos = line.split()
    if k in last:
        after = repos[repos.index(last[k]) + 1:]
        out.update({key: v for key, v in res.items() if key.split()[0] == k and key.split()[1] in after})
json.dump(out, open('files3.json', 'w'), indent=0)
for k, (h, c) in sorted(out.items()):
    print(k, (h or '')[:12], len(c))
