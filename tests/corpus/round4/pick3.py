# Third pass (plans without ids and ticket bundles, files3.json): the same procedure with a fresh
# random.Random(20261208); repositories that already hold two picks are left out (2-per-repo cap).
import collections, json
from seeded import pick

held = collections.Counter(p[1] for f in ('picks.json', 'picks2.json') for p in json.load(open(f)))
res = {k: v for k, v in json.load(open('files3.json')).items() if held[k.split()[1]] < 2}
json.dump(res, open('/tmp/r4-files3-capped.json', 'w'))
pick('/tmp/r4-files3-capped.json', {'bundle': 1, 'noid': 1}, {'bundle': 3, 'noid': 8}, 'picks3.json')
