"""Pure image handling for evidence photos: sniffing, validation, metadata, derivatives.

Nothing here touches the database or storage; the photo service composes these steps.
"""
