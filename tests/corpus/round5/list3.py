# Pass 3 listing (reading left too few ExecPlans: the docs/exec-plans files of pass 1-2 were
# mostly roadmaps and checklists): list.py's execplan pattern over the repositories fetched so
# far, the seeded order continued.   python3 list3.py  ->  files3.json
import sys
sys.argv = ['list.py', 'files3.json', 'execplan']
exec(open('list.py').read())
