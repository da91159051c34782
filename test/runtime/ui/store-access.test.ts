// How the UI names its metadata store: a PostgreSQL password never reaches a page or the ready line.

import { displayAddress } from '../../../runtime/ui/store-access';

test.each([
  ['postgres://mlmd:s3cr:et@db.internal:5432/mlmd', 'postgres://mlmd:***@db.internal:5432/mlmd'],
  ['postgresql://mlmd@db/mlmd', 'postgresql://mlmd@db/mlmd'],
  ['sqlite:/data/metadata.sqlite', 'sqlite:/data/metadata.sqlite'],
])('%s is shown as %s', (address, shown) => {
  expect(displayAddress(address)).toBe(shown);
});
