"""The farm scheduler: confirmed orders -> plates -> printers over time, with promised dates.

    model      printers, plates (jobs), changeovers, the staffed calendar, schedules and their figures
    jobs       orders -> part sets -> shared plates (packing)
    dispatch   greedy ATCS dispatch, first-come-first-served, re-timing a kept sequence
    cpsat      the CP-SAT model, warm-started by the greedy plan
    bounds     lower bounds on the objective (the gap we report is against them)
    plan       solve, re-plan on floor events, capable-to-promise
    floor      the plan of the real floor: the order store + data/printers.csv + pins and holds
    simulate   a simulated factory week under one policy
"""

from somana_core.scheduling.model import (  # noqa: F401
    Assignment,
    Calendar,
    Changeovers,
    Instance,
    Job,
    Printer,
    Schedule,
    check,
    figures,
    fleet,
    load_changeovers,
    load_printers,
)
from somana_core.scheduling.plan import POLICIES, Planner, solve  # noqa: F401
