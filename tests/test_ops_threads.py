"""faltung.ops.threads: BLAS thread control through threadpoolctl."""
import numpy as np
import pytest

from faltung.ops import threads


def test_blas_info_names_numpys_blas():
    infos = threads.blas_info()
    assert infos, "threadpoolctl found no BLAS"
    assert all({"internal_api", "num_threads", "version"} <= set(info) for info in infos)


def test_context_manager_limits_and_restores():
    before = threads.get_num_threads()
    with threads.num_threads(1):
        assert threads.get_num_threads() == 1
        a = np.random.default_rng(0).random((64, 64))
        np.testing.assert_allclose(a @ np.eye(64), a)  # BLAS still works with one thread
    assert threads.get_num_threads() == before


def test_set_num_threads_sets_it_for_the_process():
    before = threads.get_num_threads()
    try:
        threads.set_num_threads(1)
        assert threads.get_num_threads() == 1
    finally:
        threads.set_num_threads(before)
    assert threads.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_bad_thread_counts_raise(bad):
    with pytest.raises(ValueError, match="positive int"):
        threads.set_num_threads(bad)
    with pytest.raises(ValueError, match="positive int"):
        with threads.num_threads(bad):
            pass
