"""Bulk data for the benchmarks: a national driving-school chain built with set-based SQL.

    from bench.datagen import ChainSize, build_chain
    size = ChainSize(instructors=2000, students=200_000, lessons=4_000_000)
    report = build_chain(db, size, today=clock.today(), now=clock.now(), password_hash=hashed)

The generator lives in the app now (app/dao/bulk_seed.py, where `flask seed-demo --scale S|M|L` uses it
too; its docstring describes the shape of the data): this module keeps the benches' imports working.
"""
from __future__ import annotations

from app.dao.bulk_seed import (  # the benches' public API (__all__)
    BUILDER_VERSION, CHUNK, CITIES, COURSE_FEE, COURSES, DAY_COUNTS, EXTRA_LESSON, FINANCE_VERSION, GROUP,
    LATE_FEE, SLOTS, SURNAMES, TOPICS, TOPUP_LESSON, TOPUPS, WORK_END, WORK_START, ZONES, ChainSize,
    branch_sizes, build_chain, build_finance, built_size, finance_built, work_weekdays,
)

__all__ = ["BUILDER_VERSION", "CHUNK", "CITIES", "COURSE_FEE", "COURSES", "DAY_COUNTS", "EXTRA_LESSON",
           "FINANCE_VERSION", "GROUP", "LATE_FEE", "SLOTS", "SURNAMES", "TOPICS", "TOPUP_LESSON", "TOPUPS",
           "WORK_END", "WORK_START", "ZONES", "ChainSize", "branch_sizes", "build_chain", "build_finance",
           "built_size", "finance_built", "work_weekdays"]
