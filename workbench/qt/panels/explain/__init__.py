"""The Explain tab: :mod:`.panel` is the tab itself; the rest are its parts (:mod:`.jobs`, :mod:`.views`)."""
