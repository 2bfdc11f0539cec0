import DefaultTheme from 'vitepress/theme';
import type { Theme } from 'vitepress';
import TmsDemo from './TmsDemo.vue';

export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('TmsDemo', TmsDemo);
  },
} satisfies Theme;
