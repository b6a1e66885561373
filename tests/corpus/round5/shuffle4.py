# Pass 4 order: the execplan2 candidates (cands.py) minus excluded.txt, sorted and shuffled with a
# fresh random.Random(20261209); appended to order.txt as the `execplan2` line.
import random
exec(open('cands.py').read())
excluded = set(open('excluded.txt').read().split())
l = sorted(set(execplan2) - excluded)
random.Random(20261209).shuffle(l)
print('execplan2', ' '.join(l))
