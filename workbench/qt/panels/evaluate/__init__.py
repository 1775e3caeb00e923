"""The Evaluate tab: :mod:`.panel` is the tab itself; the rest are its parts (:mod:`.chooser`, :mod:`.confusion`, :mod:`.views`)."""
