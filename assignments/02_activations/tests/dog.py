OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'dog',
    'points': 2,
    'suites': [   {   'cases': [   {'code': ">>> assert isinstance(dog_blank, dict) and set(dog_blank) == set(layer_names), 'one entry per layer of layer_names'\n", 'hidden': False, 'locked': False},
                                   {'code': '>>> assert all((isinstance(v, int) and v >= 0 for v in dog_blank.values()))\n', 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
