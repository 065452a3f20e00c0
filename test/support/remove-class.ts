// Child process for the class-removal crash test: removes class 1 (its pixels become unlabelled) until killed.
import { removeClass } from '../../app/project/class-removal.js';
import { Project } from '../../app/project/project.js';

const [root] = process.argv.slice(2);
const project = await Project.open(root!);
process.stdout.write('ready\n');
await removeClass(project, 1, { to: 'unlabelled' });
process.stdout.write('done\n');
