"""The Runs tab: :mod:`.panel` is the tab itself; the rest are its parts (:mod:`.model`, :mod:`.panel`)."""
