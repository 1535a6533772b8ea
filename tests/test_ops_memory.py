"""A model asks glibc's malloc to keep freed memory, so a training step reuses mapped pages."""
import subprocess
import sys

import pytest

from faltung import config

_PROBE = """
import resource, numpy as np, faltung
model = faltung.models.Sequential([faltung.layers.Input((4,)), faltung.layers.Dense(2)])
model.predict_on_batch(np.zeros((1, 4), np.float32))           # a model runs: the setting is made
for step in range(3):                                           # what a training step does
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a = np.ones((64 << 20) // 4, np.float32)                    # 64 MiB, above any mmap threshold
    del a
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(faults)
"""


def _page_faults_of_a_repeated_allocation(keep):
    env = {"FALTUNG_KEEP_FREED_MEMORY": "1" if keep else "0", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    return int(out.stdout.split()[-1])


def test_a_model_run_makes_malloc_reuse_freed_memory():
    # fresh pages fault at least once per 2 MiB (a transparent huge page), 32 times for 64 MiB;
    # reused pages are mapped already
    assert _page_faults_of_a_repeated_allocation(keep=False) >= 32
    assert _page_faults_of_a_repeated_allocation(keep=True) <= 4


def test_setting_checks_its_value():
    with pytest.raises(ValueError, match="expected True or False"):
        config.set_keep_freed_memory("yes")
    assert config.keep_freed_memory() in (True, False)
