import DefaultTheme from 'vitepress/theme';
import type { Theme } from 'vitepress';
import ExperimentRun from './ExperimentRun.vue';
import TmsDemo from './TmsDemo.vue';
import EngineCheck from './EngineCheck.vue';
import './results.css';

export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('TmsDemo', TmsDemo);
    app.component('ExperimentRun', ExperimentRun);
    app.component('EngineCheck', EngineCheck);
  },
} satisfies Theme;
