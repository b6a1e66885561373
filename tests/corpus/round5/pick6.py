# Pass 6 pick: seeded.py's procedure (fresh Random(20261209), order.txt order) over files6.json
# for the execplan3 kind, skipping files passes 1-5 picked; the 2-per-repository cap is
# counted across passes.
import json, random
from collections import Counter

prev = sum((json.load(open(f'picks{n}.json')) for n in ('', 2, 3, 4, 5)), [])
used, seen = Counter(p[1] for p in prev), {(p[1], p[3]) for p in prev}
res = json.load(open('files6.json'))
order = {l.split()[0]: l.split()[1:] for l in open('order.txt')}
rng = random.Random(20261209)
picks, target = [], {'execplan3': 6}
for k in sorted(target):
    n = 0
    for r in order[k]:
        key = f'{k} {r}'
        if key not in res or not res[key][1] or n >= target[k] or used[r] >= 2:
            continue
        head, c = res[key]
        c = sorted(x for x in c if (r, x) not in seen)
        rng.shuffle(c)
        for p in c[:min(2 - used[r], target[k] - n)]:
            picks.append((k, r, head, p))
            used[r] += 1
            n += 1
for p in picks:
    print(*p)
json.dump(picks, open('picks6.json', 'w'), indent=0)
