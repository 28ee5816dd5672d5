"""The asset register on the Open Referral UK model, with ABCD asset kinds.

Modules: ``schedules`` (RFC 5545 recurrence, "open at", OSM opening hours), ``taxonomy`` (the
default ABCD / wellbeing taxonomy), ``search`` (``search_services``), ``records`` (the one upsert
path of the tabular importers), ``formats`` (one module per file format the directory imports:
ORUK JSON and CSV, OSM points, NHS ODS sites, the community-builder CSV template; and their
registry), ``imports`` (``import_file``: the format looked up or detected), ``export`` (ORUK JSON / CSV, GeoJSON, GeoPackage,
iCalendar), ``editing`` (create / update / retire / restore with an audit trail) and ``oruk``
(ORUK JSON validation, import and serialisation).
"""

from __future__ import annotations
