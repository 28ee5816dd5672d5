"""Commissioning: need beside strength, access to assets, a proportionate-universalism
allocator, health-gap measures, and the co-production log of each commission.

Modules: ``access`` (2SFCA / E2SFCA, ``access_to_assets``), ``supply`` (supply points from a
directory search), ``areas`` (LSOA 2011 demand, IMD and life expectancy per area), ``need``
(need beside strength, quadrants, honest coverage), ``gap`` (SII and RII of life expectancy
across IMD deciles), ``allocate`` (proportionate universalism), ``cycle`` (commissions, stages,
involvement, "you said, we did").

Every result is a dataclass whose ``to_dict()`` is the JSON of the matching command (and, next,
of the API); functions that read or change a commission take the viewer's ``User`` and check
the role themselves, so the web and API layers stay thin.
"""

from __future__ import annotations
