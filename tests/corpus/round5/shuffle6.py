# Pass 6 order: the execplan3 candidates (cands.py) minus excluded.txt, sorted and shuffled with a
# fresh random.Random(20261209); appended to order.txt as the `execplan3` line.
import random
exec(open('cands.py').read())
excluded = set(open('excluded.txt').read().split())
l = sorted(set(execplan3) - excluded)
random.Random(20261209).shuffle(l)
print("execplan3", ' '.join(l))
