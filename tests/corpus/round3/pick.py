# Seeded pick (20261209): per kind in sorted order, repositories in the seeded order of
# order.txt, each repository's sorted candidate list shuffled, the first CAP kept, until TARGET.
from seeded import pick

pick('files1.json', {'bundle': 1, 'execplan': 2, 'kiro': 2, 'noid': 2, 'speckit': 2, 'taskmaster': 1}, {'bundle': 2, 'execplan': 9, 'kiro': 9, 'noid': 11, 'speckit': 9, 'taskmaster': 8}, 'picks.json')
