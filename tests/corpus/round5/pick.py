# Seeded pick (20261209): per kind in sorted order, repositories in the seeded order of
# order.txt, each repository's sorted candidate list shuffled, the first CAP kept, until TARGET.
from seeded import pick

pick('files1.json', {'bundle': 1, 'execplan': 2, 'kiro': 2, 'noid': 2, 'speckit': 2, 'taskmaster': 1, 'tid': 2}, {'bundle': 4, 'execplan': 6, 'kiro': 6, 'noid': 14, 'speckit': 7, 'taskmaster': 6, 'tid': 4}, 'picks.json')
