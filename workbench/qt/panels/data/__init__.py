"""The Data tab: :mod:`.panel` is the tab itself; the rest are its parts (:mod:`.advice`, :mod:`.jobs`, :mod:`.settings`, :mod:`.views`)."""
