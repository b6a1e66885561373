# Second pass (repositories fetched after the first pick, files2.json): the same procedure
# with a fresh random.Random(20261209), for the two kinds the first pass left short.
import json, random
res = json.load(open('files2.json'))
order = {l.split()[0]: l.split()[1:] for l in open('order.txt')}
cap = {'execplan': 2, 'noid': 2}
target = {'execplan': 4, 'noid': 4}
rng = random.Random(20261209)
picks = []
for k in sorted(cap):
    n = 0
    for r in order[k]:
        key = f'{k} {r}'
        if key not in res or not res[key][1] or n >= target[k]:
            continue
        head, c = res[key]
        c = sorted(c)
        rng.shuffle(c)
        for p in c[:min(cap[k], target[k] - n)]:
            picks.append((k, r, head, p))
            n += 1
for p in picks:
    print(*p)
json.dump(picks, open('picks2.json', 'w'), indent=0)
