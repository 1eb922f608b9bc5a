"""The threads an OpenMP fit gets: the cores other processes left free (core/cpu.py)."""

import multiprocessing as mp
import time

from core import cpu


def _spin() -> None:
    while True:
        pass


def test_other_processes_busy_time_is_the_machines_less_this_process():
    assert cpu.busy_cores(wall=2.0, machine_busy=3.0, own=1.0) == 1.0
    assert cpu.busy_cores(wall=1.0, machine_busy=0.5, own=0.9) == 0.0  # rounding in the counters
    assert cpu.busy_cores(wall=0.0, machine_busy=1.0, own=0.0) == 0.0


def test_a_core_half_busy_elsewhere_is_taken_and_one_thread_is_always_left():
    assert cpu.threads_from_load(2, 0.0) == 2
    assert cpu.threads_from_load(2, 0.4) == 2
    assert cpu.threads_from_load(2, 0.6) == 1
    assert cpu.threads_from_load(8, 2.7) == 5
    assert cpu.threads_from_load(2, 5.0) == 1


def test_small_tables_get_one_thread_however_idle_the_machine():
    assert cpu.openmp_threads(8, cpu.SMALL_TABLE_ROWS - 1) == 1


def test_cores_that_other_processes_keep_busy_are_seen_as_busy():
    cores = cpu.available_threads()
    looker = cpu._Looker()
    looker.others_busy()  # the first look
    spinners = [mp.Process(target=_spin, daemon=True) for _ in range(cores)]
    for spinner in spinners:
        spinner.start()
    try:
        time.sleep(1.5)
        busy = looker.others_busy()
    finally:
        for spinner in spinners:
            spinner.kill()
    assert busy > cores - 0.5, busy
    assert cpu.threads_from_load(cores, busy) == 1
