def map_page(lab):
    raise NotImplementedError
