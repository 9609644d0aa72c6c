//! The stream value type (entries, consumer groups, pending lists): being built for issue 15.
