import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
// cdktf's jest matchers (toHaveResourceWithProperties, ...) for the construct and stack tests.
Testing.setupJest();
