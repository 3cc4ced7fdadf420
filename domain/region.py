"""Data regions."""

from enum import StrEnum


class Region(StrEnum):
    US = "US"
    EU = "EU"
    APAC = "APAC"
    ROW = "ROW"
