// The catalog that lets a worker load only the component it runs lists exactly the bundled components, each
// under the folder that defines it; an unknown name is a one-line error listing what exists.

import * as bundled from '../../../runtime/components';
import { BUNDLED_COMPONENT_MODULES, loadBundledComponent } from '../../../runtime/components/catalog';
import { getComponent } from '../../../runtime/core/component';
import { loadComponentModules } from '../../../runtime/runner/component-modules';

test('the catalog and the index list the same components, by their registered names', () => {
  const exported = Object.values(bundled).map((c) => c.name).sort();
  expect(Object.keys(BUNDLED_COMPONENT_MODULES).sort()).toEqual(exported);
  for (const name of exported) {
    expect(loadBundledComponent(name)).toBe(true);
    expect(getComponent(name).name).toBe(name);
  }
  expect(loadBundledComponent('NoSuchComponent')).toBe(false);
});

test('an unknown component without modules names the bundled ones', () => {
  expect(() => loadComponentModules('Trainerr', [])).toThrow(/^unknown component "Trainerr": not a bundled component \(BigQueryExampleGen, BulkInferrer, DataReport, Evaluator, ExampleGen, .*, Trainer, Transform, Tuner\) and no --module defines it$/);
});
