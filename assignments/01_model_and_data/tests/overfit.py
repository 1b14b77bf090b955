OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'overfit',
    'points': 1,
    'suites': [   {   'cases': [   {'code': ">>> assert isinstance(best_epoch, int), 'best_epoch should be an int'\n", 'hidden': False, 'locked': False},
                                   {'code': ">>> assert 1 <= best_epoch <= 30, 'baseline trained for 30 epochs'\n", 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
