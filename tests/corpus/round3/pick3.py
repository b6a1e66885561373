# Third pass (repositories fetched after the second pick, files3.json): the same procedure
# with a fresh random.Random(20261209), for the two kinds still short after reading.
from seeded import pick

pick('files3.json', {'execplan': 2, 'noid': 2}, {'execplan': 2, 'noid': 4}, 'picks3.json')
