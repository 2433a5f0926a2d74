import sys
sys.path.insert(0, "/work/main/tests/integration")
from test_sip import *
def test_peek(sip):
    test_garbage_does_no_harm(sip)
    print(sip.read_log()[-6000:])
