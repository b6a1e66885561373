# Third pass (repositories fetched after the second pick, files3.json): the same procedure
# with a fresh random.Random(20261209), for the two kinds still short after reading.
import json, random
res = json.load(open('files3.json'))
order = {l.split()[0]: l.split()[1:] for l in open('order.txt')}
cap = {'execplan': 2, 'noid': 2}
target = {'execplan': 2, 'noid': 4}
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
json.dump(picks, open('picks3.json', 'w'), indent=0)
