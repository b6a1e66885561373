# Fourth pass (plans without ids, files4.json): fresh random.Random(20261208); repositories that
# already hold two picks are left out.
import collections, json
from seeded import pick

held = collections.Counter(p[1] for f in ('picks.json', 'picks2.json', 'picks3.json') for p in json.load(open(f)))
res = {k: v for k, v in json.load(open('files4.json')).items() if held[k.split()[1]] < 2}
json.dump(res, open('/tmp/r4-files4-capped.json', 'w'))
pick('/tmp/r4-files4-capped.json', {'noid': 1}, {'noid': 10}, 'picks4.json')
