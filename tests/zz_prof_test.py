import time
from browser_test import *  # noqa
def test_prof(session):
    s = session()
    p = s.page
    for i in range(3):
        t=time.time(); p.goto("/auth/login"); print("goto", time.time()-t)
        t=time.time(); s.shot("x"); print("shot", time.time()-t)
        t=time.time(); p.screenshot(path="/tmp/x.png"); print("shot-viewport", time.time()-t)
    t=time.time(); s.login("admin@origin.com"); p.wait_for_url("**/dashboard/"); print("login", time.time()-t)
    t=time.time(); p.goto("/dashboard/"); print("dash", time.time()-t)
