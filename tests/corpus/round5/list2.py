# Pass 2 listing (reading pass 1 left too few ExecPlans and plans without ids): list.py's
# patterns for those two kinds over the repositories fetched so far, the seeded order continued
# past pass 1's last picked repository.   python3 list2.py  ->  files2.json
import sys
sys.argv = ['list.py', 'files2.json', 'execplan', 'noid']
exec(open('list.py').read())
