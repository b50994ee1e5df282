"""helpers: modules the pergil tests import, in the caller and inside worker interpreters."""
