# Second pass (repositories fetched after the first pick, files2.json): the same procedure
# with a fresh random.Random(20261209), for the two kinds the first pass left short.
from seeded import pick

pick('files2.json', {'execplan': 2, 'noid': 2}, {'execplan': 4, 'noid': 4}, 'picks2.json')
