"""A model cuts the time OpenBLAS's idle threads spin after a product (``threads.shorten_blas_wait``)."""
import subprocess
import sys

import pytest

from faltung import config

_PROBE = """
import ctypes, time, numpy as np, faltung
from faltung.ops import threads
model = faltung.models.Sequential([faltung.layers.Input((4,)), faltung.layers.Dense(2)])
model.predict_on_batch(np.zeros((1, 4), np.float32))           # a model runs: the setting is made
threads.set_num_threads(2)
a = np.random.default_rng(0).random((768, 768))
spun = []
for _ in range(3):                                              # CPU time the process burns asleep
    product = a @ a                                             # right after a threaded product
    before = time.process_time()
    time.sleep(0.25)
    spun.append(time.process_time() - before)
assert np.allclose(product, np.einsum("ij,jk->ik", a, a))       # the restarted threads still compute
timeout = ctypes.CDLL(threads.numpy_openblas_path()).openblas_thread_timeout()
print(min(spun), timeout, threads.get_num_threads())
"""


def _run(env):
    out = subprocess.run([sys.executable, "-c", _PROBE], env={"PATH": "/usr/bin:/bin", **env},
                         capture_output=True, text=True, check=True, timeout=120)
    spun, timeout, num_threads = out.stdout.split()
    return float(spun), int(timeout), int(num_threads)


def test_idle_blas_threads_stop_spinning_once_a_model_ran():
    spun, timeout, num_threads = _run({})
    assert timeout == 20 and num_threads == 2
    assert spun < 0.02                          # asleep within ~0.3 ms of the product
    # OpenBLAS's own 2^28 cycles: a worker spins through a good part of the sleep
    spun, timeout, _ = _run({"FALTUNG_BLAS_THREAD_TIMEOUT": "0"})
    assert timeout == 0 and spun > 0.02
    # a user's own setting is left alone
    _, timeout, _ = _run({"OPENBLAS_THREAD_TIMEOUT": "20"})
    assert timeout == 20


def test_setting_checks_its_value():
    before = config.blas_thread_timeout()
    for bad in (3, 31, 16.0, True, "16"):
        with pytest.raises(ValueError, match="expected None or an int exponent in 4..30"):
            config.set_blas_thread_timeout(bad)
    config.set_blas_thread_timeout(None)
    assert config.blas_thread_timeout() is None
    config.set_blas_thread_timeout(before)
    assert config.blas_thread_timeout() == before
