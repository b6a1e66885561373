# Fourth pass (repositories fetched after the third pick, files4.json): the same procedure
# with a fresh random.Random(20261209), ExecPlans only (six were left after reading).
from seeded import pick

pick('files4.json', {'execplan': 2}, {'execplan': 2}, 'picks4.json')
