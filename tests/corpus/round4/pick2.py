# Second pass (ExecPlans only, files2.json): the same procedure with a fresh random.Random(20261208).
from seeded import pick

pick('files2.json', {'execplan': 2}, {'execplan': 6}, 'picks2.json')
