# Fourth pass (repositories fetched after the third pick, files5.json): the same procedure
# with a fresh random.Random(20261209), ExecPlans only (the fourth pass's two were dropped).
from seeded import pick

pick('files5.json', {'execplan': 2}, {'execplan': 2}, 'picks5.json')
