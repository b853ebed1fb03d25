"""Evidence photos as files: storage backends (`storage`), image handling (`imaging`), garbage
collection of blobs no row refers to (`gc`)."""
