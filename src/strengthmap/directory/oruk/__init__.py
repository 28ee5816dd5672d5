"""Open Referral UK JSON (HSDS 3.0 UK profile): validate documents, import them, serialise records.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> doc = {"id": "ac148810-d857-441c-9679-408f346de14b", "name": "Lunch club",
    ...        "status": "active", "schedules": [{"id": "48102e86-bb50-41c4-8f1e-e269368c41d1",
    ...        "freq": "WEEKLY", "byday": "WE", "opens_at": "12:00", "closes_at": "14:00"}]}
    >>> validate_oruk(doc)
    []
    >>> import_oruk(store, doc).created["service"]
    1
    >>> with store.session() as session:
    ...     to_oruk_service(session, doc["id"]) == doc
    True

The mapping is table by table (``ENTITIES``): each ORUK field that a column holds goes to that
column; everything else (fields the columns do not hold, and the exact original text where a
column would normalise it, such as ``"2023-03-15T10:30:45.123Z"``) is kept in the record's
``extra`` JSON under ``"oruk"`` / ``"oruk_raw"``, so a document exports again without loss.
Serialisers omit empty optional fields (never ``null``), skip retired records and private
contacts, and give the shapes of the compiled UK schemas (``full`` or the one-to-one ``list``
shape). Fields that only point back to the enclosing record (``service_id`` inside a service's
schedules, ``location_id`` inside a location's addresses ...) are written out only when the
imported document had them.

The package: ``mapping`` (the ORUK tables, fields and shapes; value conversion; the bundled
schemas ``schemas.json``), ``validate`` (``validate_oruk``), ``import_`` (``import_oruk``, which
writes through ``strengthmap.directory.records.upsert_rows``, the directory's one write path)
and ``serialise`` (``to_oruk_*``).
"""

from __future__ import annotations

from strengthmap.directory.oruk.import_ import ImportReport, import_oruk
from strengthmap.directory.oruk.mapping import (
    ENTITIES,
    LOCATION_FULL,
    LOCATION_ONE_TO_ONE,
    ORG_FULL,
    ORG_NESTED,
    ORG_ONE_TO_ONE,
    ORUK_PROFILE_URL,
    ORUK_VERSION,
    SAL_FULL,
    SAL_LIST,
    SCHEMA_FILE,
    SERVICE_FULL,
    SERVICE_IN_ORGANIZATION,
    SERVICE_IN_SAL,
    SERVICE_LIST,
    TAXONOMY_FULL,
    TAXONOMY_LIST,
    TERM_SHAPE,
    Shape,
)
from strengthmap.directory.oruk.serialise import (
    published,
    to_oruk_location,
    to_oruk_many,
    to_oruk_organization,
    to_oruk_service,
    to_oruk_service_at_location,
    to_oruk_taxonomy,
    to_oruk_taxonomy_term,
)

# the compiled fast check and the full validator, which the tests compare with each other
from strengthmap.directory.oruk.validate import _fast_check as _fast_check
from strengthmap.directory.oruk.validate import _validator as _validator
from strengthmap.directory.oruk.validate import validate_oruk

__all__ = [
    "ENTITIES",
    "LOCATION_FULL",
    "LOCATION_ONE_TO_ONE",
    "ORG_FULL",
    "ORG_NESTED",
    "ORG_ONE_TO_ONE",
    "ORUK_PROFILE_URL",
    "ORUK_VERSION",
    "SAL_FULL",
    "SAL_LIST",
    "SCHEMA_FILE",
    "SERVICE_FULL",
    "SERVICE_IN_ORGANIZATION",
    "SERVICE_IN_SAL",
    "SERVICE_LIST",
    "TAXONOMY_FULL",
    "TAXONOMY_LIST",
    "TERM_SHAPE",
    "ImportReport",
    "Shape",
    "import_oruk",
    "published",
    "to_oruk_location",
    "to_oruk_many",
    "to_oruk_organization",
    "to_oruk_service",
    "to_oruk_service_at_location",
    "to_oruk_taxonomy",
    "to_oruk_taxonomy_term",
    "validate_oruk",
]
